import sys

import faust

# version= and id_format= make the App id (Faust's <id>-v<version>): they must be constants
app = faust.App("ledger", version=int(sys.argv[1]))  # E: FC105 the App's version= and id_format=
