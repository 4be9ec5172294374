"""The ``pretty-printer`` console command: one module per subcommand, :mod:`.main` wires them.
"""
