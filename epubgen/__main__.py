from epubgen.cli import run

run()
