from ducktrail.cli import main

main()
