from epubgen.cli import main

main()
