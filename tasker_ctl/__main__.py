"""``python -m tasker_ctl`` runs the command line."""

from tasker_ctl.cli import main

if __name__ == "__main__":
    main()
