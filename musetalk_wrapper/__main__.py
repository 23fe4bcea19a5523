from musetalk_wrapper.cli import main

raise SystemExit(main())
