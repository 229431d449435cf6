"""The kernel never imports Django (nor any web or task framework)."""

from __future__ import annotations

import subprocess
import sys
import textwrap

FORBIDDEN = ("django", "ninja", "celery")


def test_kernel_imports_without_any_framework() -> None:
    code = textwrap.dedent(
        f"""
        import importlib, pkgutil, sys
        class Block:
            def find_spec(self, name, path=None, target=None):
                if name.split('.')[0] in {FORBIDDEN!r}:
                    raise ImportError('forbidden import: ' + name)
        sys.meta_path.insert(0, Block())
        import insignia.credentials as k
        for mod in pkgutil.walk_packages(k.__path__, 'insignia.credentials.'):
            importlib.import_module(mod.name)
        bad = sorted(m for m in sys.modules if m.split('.')[0] in {FORBIDDEN!r})
        assert not bad, bad
        print('ok')
        """
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"
