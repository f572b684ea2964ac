"""One module per `convlens` subcommand: its flags (`add_arguments`) and what it does (`run`)."""
