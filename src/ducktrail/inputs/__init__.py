"""Finding the files to read, and explaining the ones that cannot be read."""
