"""The offline reader: reads a page's fixed-width layout text the way a person does.

``layout`` turns the text into lines of cells with character columns; ``recognise`` types a
value by its content (phone, postal code, grades, web, e-mail, identifier, ...); ``lexicon``
knows header and label words in several languages; ``tables`` finds tables by their header
and column alignment; ``flows`` splits what is left into text columns and reads directory
blocks, lists and prose there; ``page`` runs the segmenters and keeps the best records.
"""
