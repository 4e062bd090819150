"""Build this repository's sample anthology: ``python compile.py [build|check] [PROJECT]``."""


from anthology.cli import run

if __name__ == "__main__":
    run()
