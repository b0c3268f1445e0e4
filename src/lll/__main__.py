from lll.cli import main

main()
