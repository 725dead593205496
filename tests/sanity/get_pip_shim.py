"""Stand-in for the pip bootstrap script ansible-test downloads (get-pip-<version>.py).

ansible-test fetches that script from a host our machines cannot reach, then runs it as `python get_pip.py
<pip install arguments>` inside each fresh sanity virtualenv. This does the same from what is at hand: pip from
the standard library's ensurepip (offline), then `pip install <arguments>` from PyPI.
`make sanity` copies it to ~/.ansible/test/cache/get_pip_<version>.py.
"""

import runpy
import subprocess
import sys

subprocess.check_call([sys.executable, "-m", "ensurepip", "--upgrade", "--default-pip"], stdout=subprocess.DEVNULL)
# get-pip's own options: --no-setuptools/--no-wheel mean "do not install them", which plain pip never does.
sys.argv = ["pip", "install"] + [arg for arg in sys.argv[1:] if arg not in ("--no-setuptools", "--no-wheel")]
runpy.run_module("pip", run_name="__main__", alter_sys=True)
