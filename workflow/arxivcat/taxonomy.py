"""The arXiv category taxonomy (https://arxiv.org/category_taxonomy) and its aliases."""

from __future__ import annotations

from collections.abc import Iterable

#: Categories that arXiv lists under two names; the key is the alias, the value the canonical name.
ALIASES: dict[str, str] = {
    "math.MP": "math-ph",
    "stat.TH": "math.ST",
    "math.IT": "cs.IT",
    "q-fin.EC": "econ.GN",
    "cs.SY": "eess.SY",
    "cs.NA": "math.NA",
}

_GROUPS: dict[str, str] = {
    "cs": "AI AR CC CE CG CL CR CV CY DB DC DL DM DS ET FL GL GR GT HC IR IT LG LO MA MM MS NA NE "
    "NI OH OS PF PL RO SC SD SE SI SY",
    "econ": "EM GN TH",
    "eess": "AS IV SP SY",
    "math": "AC AG AP AT CA CO CT CV DG DS FA GM GN GR GT HO IT KT LO MG MP NA NT OA OC PR QA RA "
    "RT SG SP ST",
    "astro-ph": "CO EP GA HE IM SR",
    "cond-mat": "dis-nn mes-hall mtrl-sci other quant-gas soft stat-mech str-el supr-con",
    "nlin": "AO CD CG PS SI",
    "physics": "acc-ph ao-ph app-ph atm-clus atom-ph bio-ph chem-ph class-ph comp-ph data-an ed-ph "
    "flu-dyn gen-ph geo-ph hist-ph ins-det med-ph optics plasm-ph pop-ph soc-ph space-ph",
    "q-bio": "BM CB GN MN NC OT PE QM SC TO",
    "q-fin": "CP EC GN MF PM PR RM ST TR",
    "stat": "AP CO ME ML OT TH",
}
_STANDALONE = (
    "astro-ph cond-mat gr-qc hep-ex hep-lat hep-ph hep-th math-ph nucl-ex nucl-th quant-ph"
)

#: Every category of the current taxonomy, aliases included.
CATEGORIES: frozenset[str] = frozenset(
    [f"{group}.{sub}" for group, subs in _GROUPS.items() for sub in subs.split()]
    + _STANDALONE.split()
)


def canonical(category: str) -> str:
    """Return the canonical name of ``category`` (aliases resolved, anything else unchanged)."""
    return ALIASES.get(category, category)


def canonical_list(categories: Iterable[str]) -> list[str]:
    """Resolve aliases in ``categories`` and drop repeats, keeping the first occurrence's order."""
    seen: dict[str, None] = {}
    for category in categories:
        seen.setdefault(canonical(category), None)
    return list(seen)


def unknown_categories(categories: Iterable[str]) -> list[str]:
    """Return the members of ``categories`` that are not arXiv categories, in input order."""
    return [c for c in categories if c not in CATEGORIES]
