from presgen_training.cli import main

raise SystemExit(main())
