from schoolx.cli.entry import main

if __name__ == "__main__":  # spawned pool processes import __main__ too
    main()
