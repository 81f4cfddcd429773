"""``python -m kpisheet``: the same command line as the ``kpisheet`` script."""

from kpisheet.xladdin.cli.app import app

if __name__ == "__main__":
    app(prog_name="kpisheet")
