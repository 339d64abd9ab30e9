"""The PDF handler: text, extract, normalize and save stages."""
