"""What an incremental scan may reuse from the last one: each module's classified call sites.

Classifying call sites (resolving every callee across modules, then looking it up in the catalog) is
most of the analysis. A site's classification depends on its own module's summary and on the
*interfaces* of the modules its names resolve through: their globals, classes, function signatures,
kinds and decorators, never on other functions' bodies. So when no module's interface changed (the
usual edit: a function body), every unchanged module's classification still holds, and only the
edited modules are classified again. The call graph is then solved and the findings built from
scratch, which is cheap. ``interface_digest`` is the test; ``encode_sites``/``decode_sites`` the
compact form kept in the summary cache.
"""

from __future__ import annotations

import hashlib
import pickle
from collections.abc import Iterable, Sequence
from typing import Any

from .summary import CallSite, FunctionSummary, ModuleSummary

# One classified site: None (nothing) or the _Site fields after ``site``.
Encoded = tuple[list[Any], list[tuple[CallSite, Any]]]


def interface_digest(module: ModuleSummary) -> str:
    """A digest of everything other modules' call sites can resolve through in ``module``."""
    functions = [(f.qualname, f.name, f.is_async, f.class_qualname, f.kind, f.params, f.returns, f.yields,
                  f.is_generator, f.decorators) for f in module.functions.values()]
    classes = [(c.qualname, c.name, c.bases, sorted(c.methods.items()), sorted(c.attrs.items(), key=repr),
                sorted(c.relationships)) for c in module.classes.values()]
    state = (module.name, module.is_package, sorted(module.globals.items(), key=repr), module.star_imports,
             functions, classes)
    return hashlib.blake2b(pickle.dumps(state, protocol=4), digest_size=16).hexdigest()


def project_key(parts: Iterable[tuple[str, str, str]], config_key: str) -> str:
    """The key under which classifications are valid: the configuration and every (path, module,
    interface) of the scan."""
    h = hashlib.blake2b(config_key.encode(), digest_size=16)
    for path, module, interface in sorted(parts):
        h.update(f"{path}\0{module}\0{interface}\n".encode())
    return h.hexdigest()


def encode_sites(fn: FunctionSummary, sites: Sequence[Any]) -> Encoded:
    """``sites`` (the ``_Site`` list of ``fn``) in compact form: one entry per call of ``fn`` (None when
    the call is nothing to the analysis), then the extra sites (property reads) in full."""
    per_call: list[Any] = []
    n = len(fn.calls)
    for s in sites[:n]:
        fields = (s.match, s.target, s.evidence, s.uncertain, s.opens_session, s.offloaded_match,
                  s.offloaded_target)
        per_call.append(None if fields == (None, None, "", "", False, None, None) else fields)
    extra = [(s.site, (s.match, s.target, s.evidence, s.uncertain, s.opens_session, s.offloaded_match,
                       s.offloaded_target)) for s in sites[n:]]
    return per_call, extra


def decode_sites(fn: FunctionSummary, encoded: Encoded, make: Any) -> list[Any] | None:
    """The ``_Site`` list back (``make(site, *fields)``), or None when it does not fit ``fn``."""
    per_call, extra = encoded
    if len(per_call) != len(fn.calls):
        return None
    out = [make(site) if fields is None else make(site, *fields) for site, fields in zip(fn.calls, per_call)]
    out += [make(site, *fields) for site, fields in extra]
    return out


def decode_edges(fn: FunctionSummary, encoded: Encoded) -> list[tuple[CallSite, Any, Any, bool]] | None:
    """(site, catalog match, project target, opens a session) of the sites of ``fn`` that are something,
    straight from the compact form (what the call-graph passes need), or None when it does not fit ``fn``."""
    per_call, extra = encoded
    if len(per_call) != len(fn.calls):
        return None
    out = [(site, f[0], f[1], f[4]) for site, f in zip(fn.calls, per_call) if f is not None]
    return out + [(site, f[0], f[1], f[4]) for site, f in extra]
