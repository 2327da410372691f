"""``python -m memsvc_eval longmemeval ...``"""

import sys

from .cli import main

sys.exit(main())
