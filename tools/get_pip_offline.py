"""Stand-in for pip's get-pip.py bootstrap script, which ansible-test downloads from a host
this machine cannot reach: install pip with the interpreter's own ensurepip, then let pip
install what was asked (the versions ansible-test pins) from the package index.

tools/sanity copies this file to ~/.ansible/test/cache/get_pip_<version>.py.
"""
import subprocess
import sys

args = [a for a in sys.argv[1:] if a not in ("--no-setuptools", "--no-wheel")]
subprocess.check_call([sys.executable, "-m", "ensurepip", "--default-pip"], stdout=subprocess.DEVNULL)
subprocess.check_call([sys.executable, "-m", "pip", "install"] + args)
