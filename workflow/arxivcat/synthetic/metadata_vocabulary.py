"""Word lists of a synthetic record's other fields: people, venues, reports, comments, licences.

Plain data, like :mod:`arxivcat.synthetic.vocabulary` (the categories and the words of titles and
abstracts); :data:`PUBLICATIONS` is keyed by that module's category families.
"""

from __future__ import annotations

FIRST_NAMES = (
    "Maria Wei Jian Anna Alexander Pavel Louis Ileana Hongjun David Yuki Sofia Lukas Chen Ahmed "
    "Fatima Carlos Elena Hiroshi Priya Rahul Olga Sergei Marco Giulia Pierre Camille Jonas Emma "
    "Noah Liam Mei Xin Yan Kenji Aisha Omar Lucia Diego Ingrid Nils Tomasz Katarzyna Andrea "
    "Daniel Sarah Michael Laura Thomas Julia"
)
INITIALS = "A. B. C. D. E. F. G. H. J. K. L. M. N. P. R. S. T. V. W. Y. Z."

#: Last names as (LaTeX form in ``authors``, Unicode form in ``authors_parsed``).
_LATIN_LAST_NAMES = (
    "Smith Wang Zhang Li Liu Chen Kumar Singh Garcia Martinez Rossi Bianchi Schmidt Weber Novak "
    "Kowalski Ivanov Petrov Tanaka Suzuki Sato Kim Park Lee Nguyen Tran Silva Santos Dubois "
    "Martin Bernard Hansen Nielsen Johansson Berg Cohen Levi Haddad Brown Taylor Wilson Evans "
    "Thomas Roberts Walker Young Hughes Green Hall Wood Clarke Jackson Moore Lopez Gonzalez "
    "Fernandez Romano Costa Ferrari Nakamura Yamamoto Huang Zhao Wu Zhou Xu Sun Ma Hu Guo Lin "
    "Yang Das Gupta Sharma Patel Mehta Nadolsky Theran Streinu Berger Yuan "
)
LAST_NAMES: tuple[tuple[str, str], ...] = (
    *((name, name) for name in _LATIN_LAST_NAMES.split()),
    ("Bal\\'azs", "Balázs"),
    ('M\\"uller', "Müller"),
    ('Sch\\"afer', "Schäfer"),
    ("Fr\\'echet", "Fréchet"),
    ("G\\'omez", "Gómez"),
    ("Jim\\'enez", "Jiménez"),
    ("Dvo\\v{r}\\'ak", "Dvořák"),
    ("L\\o{}vdahl", "Løvdahl"),
)

#: (journal-ref template, DOI template) per family; %(v)d volume, %(p)d page, %(y)d year.
PUBLICATIONS: dict[str, tuple[tuple[str, str], ...]] = {
    "ml": (
        (
            "IEEE Trans. Pattern Anal. Mach. Intell. %(v)d (%(y)d) %(p)d-%(q)d",
            "10.1109/TPAMI.%(y)d.%(n)07d",
        ),
        ("Pattern Recognition %(v)d (%(y)d) %(p)d", "10.1016/j.patcog.%(y)d.%(n)06d"),
        (
            "Proceedings of the %(y)d Conference on Empirical Methods in NLP, pp. %(p)d-%(q)d",
            "10.18653/v1/%(y)d.emnlp-main.%(m)d",
        ),
        ("Neural Computation %(v)d (%(y)d) %(p)d-%(q)d", "10.1162/neco_a_%(n)05d"),
    ),
    "cs": (
        ("IEEE Trans. Inf. Theory %(v)d (%(y)d) %(p)d-%(q)d", "10.1109/TIT.%(y)d.%(n)07d"),
        ("Proc. ACM SIGSAC CCS %(y)d, pp. %(p)d-%(q)d", "10.1145/%(n)07d.%(m)07d"),
        ("J. ACM %(v)d (%(y)d) %(p)d", "10.1145/%(n)07d"),
    ),
    "math": (
        ("J. Algebra %(v)d (%(y)d) %(p)d-%(q)d", "10.1016/j.jalgebra.%(y)d.%(n)06d"),
        ("Illinois J. Math. %(v)d (%(y)d) no.2, %(p)d-%(q)d", "10.1215/ijm/%(n)010d"),
        (
            "Math. Res. Lett. %(v)d (%(y)d), no. 2, %(p)d--%(q)d",
            "10.4310/MRL.%(y)d.v%(v)d.n2.a%(m)d",
        ),
    ),
    "phys": (
        ("Phys.Rev.D%(v)d:%(n)06d,%(y)d", "10.1103/PhysRevD.%(v)d.%(n)06d"),
        ("Astrophys.J.%(v)d:%(p)d-%(q)d,%(y)d", "10.1086/%(n)06d"),
        ("Phys. Rev. Lett. %(v)d, %(n)06d (%(y)d)", "10.1103/PhysRevLett.%(v)d.%(n)06d"),
        ("JHEP %(m)02d%(m)02d:%(p)03d,%(y)d", "10.1088/1126-6708/%(y)d/%(m)02d/%(p)03d"),
        ("Mon.Not.Roy.Astron.Soc.%(v)d:%(p)d-%(q)d,%(y)d", "10.1111/j.1365-2966.%(y)d.%(n)05d.x"),
    ),
    "bio": (("PLoS Comput. Biol. %(v)d (%(y)d) e%(n)07d", "10.1371/journal.pcbi.%(n)07d"),),
    "fin": (("Quantitative Finance %(v)d (%(y)d) %(p)d-%(q)d", "10.1080/14697688.%(y)d.%(n)07d"),),
    "stat": (("Ann. Statist. %(v)d (%(y)d) %(p)d-%(q)d", "10.1214/%(m)02d-AOS%(n)04d"),),
}

REPORT_NUMBERS = (
    "CERN-TH-%(y)d-%(m)03d",
    "SLAC-PUB-%(s)05d",
    "MIT-CTP/%(s)04d",
    "DESY %(m)02d-%(p)03d",
    "ANL-HEP-PR-%(m)02d-%(m)d",
    "FERMILAB-PUB-%(m)02d-%(p)03d-T",
)

COMMENTS = (
    "%(p)d pages, %(f)d figures",
    "%(p)d pages",
    "%(p)d pages, %(f)d figures, %(t)d tables",
    "%(p)d pages, %(f)d figures; published version",
    "%(p)d pages, %(f)d figures, accepted for publication",
    "%(p)d pages, no figures",
    "Minor corrections",
    "%(p)d pages, %(f)d figures. Code available on request",
)

LICENSES_OLD = (
    "http://arxiv.org/licenses/nonexclusive-distrib/1.0/",
    "http://arxiv.org/licenses/nonexclusive-distrib/1.0/",
    "http://arxiv.org/licenses/nonexclusive-distrib/1.0/",
    "http://creativecommons.org/licenses/by/3.0/",
    "http://creativecommons.org/licenses/by-nc-sa/3.0/",
)
LICENSES_NEW = (
    "http://arxiv.org/licenses/nonexclusive-distrib/1.0/",
    "http://arxiv.org/licenses/nonexclusive-distrib/1.0/",
    "http://arxiv.org/licenses/nonexclusive-distrib/1.0/",
    "http://creativecommons.org/licenses/by/4.0/",
    "http://creativecommons.org/licenses/by/4.0/",
    "http://creativecommons.org/licenses/by-nc-sa/4.0/",
    "http://creativecommons.org/licenses/by-nc-nd/4.0/",
    "http://creativecommons.org/licenses/by-sa/4.0/",
    "http://creativecommons.org/publicdomain/zero/1.0/",
)
