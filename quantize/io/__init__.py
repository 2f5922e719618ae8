"""Reading and writing: images, the packed container, every output format, palette files and
safe file writing."""
