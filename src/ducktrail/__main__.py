from ducktrail.launch import main

main()
