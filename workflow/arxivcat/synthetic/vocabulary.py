"""Categories and the words of titles and abstracts behind :mod:`arxivcat.synthetic.generate`.

Plain data, kept apart from the generator so that the generator's logic stays readable; the word
lists of the other fields are in :mod:`arxivcat.synthetic.metadata_vocabulary`.  Each category
row reads ``category | weight-2005 weight-2025 | family | cross-list neighbours | topic words``:
the weights are per-mille shares of one year's submissions (interpolated linearly in between,
held flat outside), the neighbours are the categories that a paper of this primary is
cross-listed to (first ones likelier), and the topic words are what makes the category learnable.
"""

from __future__ import annotations

CATEGORY_TABLE = """
cs.CV | 2 95 | ml | cs.LG cs.AI eess.IV cs.RO cs.GR cs.MM cs.CL | image images segmentation \
convolutional pixel pixels detection object objects visual video scene camera recognition depth \
pose reconstruction tracking semantic-segmentation bounding-box super-resolution point-cloud \
detector vision lidar stereo optical-flow inpainting
cs.LG | 2 85 | ml | stat.ML cs.AI cs.CV cs.CL math.OC cs.NE | gradient stochastic reinforcement \
policy regret kernel overparameterized federated convergence hyperparameter regularization \
classifier generative adversarial variational reward agents bandit graph-neural
cs.CL | 3 45 | ml | cs.AI cs.LG cs.IR cs.CV | language languages translation token tokens corpus \
sentence sentences word words linguistic text dialogue parsing summarization multilingual \
question-answering lexical syntactic speech-recognition prompts llm
cs.AI | 5 25 | ml | cs.LG cs.LO cs.MA cs.CL cs.RO | reasoning planning knowledge ontology \
logic agent symbolic inference constraint satisfiability heuristic search argumentation belief \
decision-making commonsense explainable
cs.RO | 2 25 | ml | cs.SY cs.AI cs.CV cs.LG cs.MA | robot robots robotic grasping locomotion \
manipulation manipulator legged quadruped trajectory motion-planning actuator gripper \
navigation slam kinematics humanoid teleoperation drone
cs.CR | 3 25 | cs | cs.LG cs.NI cs.SE cs.DC cs.IT | attack attacks encryption malware adversary \
privacy cryptographic authentication vulnerability security intrusion ciphertext key-exchange \
side-channel blockchain differential-privacy phishing exploit
cs.MA | 1 4 | ml | cs.AI cs.GT cs.RO cs.LG | multi-agent agents coordination cooperative \
negotiation consensus swarm decentralized coalition emergent communication teammates
cs.IT | 6 15 | cs | math.IT eess.SP cs.NI | channel capacity coding codes decoding entropy mimo \
rate-distortion fading transmitter receiver shannon precoding
cs.DS | 4 12 | cs | cs.DM cs.CC math.CO | approximation algorithm polynomial-time graph graphs \
matching spanning sublinear streaming data-structure hashing scheduling
cs.LO | 4 8 | cs | cs.PL cs.AI math.LO | logic modal semantics verification automata temporal \
type-theory proof-assistant bisimulation calculus
cs.NI | 4 10 | cs | cs.IT cs.DC cs.CR eess.SP | wireless network routing latency throughput \
protocol packet bandwidth 5g mobile edge-computing sensor-networks
cs.SE | 3 12 | cs | cs.PL cs.CR cs.LG | software code developers testing bugs repository \
refactoring program-repair requirements maintenance open-source
cs.DC | 3 12 | cs | cs.NI cs.PF cs.LG | distributed parallel cluster cloud gpu scheduling \
fault-tolerance consensus replication scalability serverless mpi
cs.HC | 1 12 | cs | cs.CY cs.AI cs.CL | user users participants interface interaction usability \
survey interviews accessibility visualization design-study
cs.IR | 1 10 | ml | cs.CL cs.LG cs.DB | retrieval recommendation recommender ranking query queries \
search-engine collaborative-filtering click-through relevance
cs.CY | 1 8 | cs | cs.HC cs.SI cs.AI | social ethical policy education students fairness society \
misinformation online-platforms governance
cs.SY | 2 10 | cs | math.OC cs.RO eess.SP | controller control feedback stability lyapunov \
closed-loop actuators power-grid model-predictive observer
cs.GT | 2 5 | cs | cs.MA econ.TH cs.DS | equilibrium nash auction mechanism players game games \
incentive bidders welfare
cs.CC | 3 3 | cs | cs.DS cs.LO math.CO | complexity np-hard hardness reduction circuit lower-bound \
boolean oracle pspace
cs.DM | 2 4 | cs | math.CO cs.DS | combinatorial graph coloring vertex vertices edges \
permutation enumeration
cs.NE | 2 5 | ml | cs.LG cs.AI | evolutionary genetic-algorithm spiking neuroevolution \
population mutation crossover fitness swarm-optimization
cs.PL | 2 5 | cs | cs.LO cs.SE | programming compiler type-system semantics functional \
interpreter static-analysis program
cs.GR | 1 4 | ml | cs.CV | rendering mesh meshes shading geometry animation graphics \
texture ray-tracing
cs.SD | 1 5 | ml | eess.AS cs.LG | audio sound music speech acoustic spectrogram speaker
cs.MM | 1 2 | ml | cs.CV cs.SD | multimedia streaming video compression watermarking
cs.DB | 2 4 | cs | cs.IR cs.DS | database databases query sql transactions indexing schema
cs.PF | 1 1 | cs | cs.DC | performance benchmarking queueing workload caching
cs.SI | 1 6 | cs | physics.soc-ph cs.CY | social-network communities influence diffusion twitter \
followers centrality
stat.ML | 0 12 | ml | cs.LG stat.ME math.ST | kernel bayesian nonparametric sparse \
gaussian-process posterior variational-inference high-dimensional lasso
stat.ME | 0 8 | stat | stat.AP stat.CO math.ST | estimator estimation regression causal treatment \
covariates missing-data bootstrap
stat.AP | 0 5 | stat | stat.ME q-bio.QM | survey clinical epidemiological forecasting census \
patients cohort
stat.CO | 0 1 | stat | stat.ME | sampling markov-chain monte-carlo mcmc sampler importance-sampling
eess.IV | 0 8 | ml | cs.CV eess.SP cs.LG | image images imaging mri ct-scans ultrasound \
compression denoising reconstruction medical-imaging hyperspectral
eess.SP | 0 10 | cs | cs.IT eess.SY cs.LG | signal signals sampling beamforming radar filter \
spectral estimation array-processing
eess.AS | 0 4 | ml | cs.SD cs.CL | speech audio speaker acoustic enhancement asr waveform
econ.EM | 0 2 | fin | stat.ME econ.GN | econometric instrumental-variables panel treatment-effects \
identification
econ.GN | 0 2 | fin | q-fin.GN | economic labor household inflation wages firms policy
econ.TH | 0 1 | fin | cs.GT | preferences utility mechanism-design contracts agents
q-bio.NC | 3 5 | bio | cs.NE q-bio.QM | neurons neuronal cortex cortical synaptic brain spiking \
firing
q-bio.PE | 3 3 | bio | physics.bio-ph q-bio.QM | populations evolution epidemic selection \
fitness mutation ecological
q-bio.QM | 2 4 | bio | q-bio.BM stat.AP | quantitative biological assay sequencing imaging \
cells
q-bio.BM | 2 2 | bio | physics.bio-ph cond-mat.soft | protein proteins folding molecular binding \
dna rna enzyme
q-fin.ST | 0 2 | fin | q-fin.MF stat.AP | returns volatility stock prices time-series \
market-microstructure
q-fin.MF | 0 2 | fin | math.PR q-fin.ST | option pricing portfolio hedging stochastic-volatility \
arbitrage
math.AG | 20 12 | math | math.NT math.AC math.CV | variety varieties scheme schemes sheaf \
sheaves moduli curves cohomology divisor
math.PR | 18 15 | math | math.ST math.CO math-ph | random brownian martingale markov \
percolation stochastic diffusion random-walk
math.CO | 20 16 | math | cs.DM math.PR cs.DS | graph graphs combinatorial permutations \
partitions hypergraph coloring extremal
math.AP | 20 18 | math | math.FA math.DS math-ph | pde elliptic parabolic navier-stokes \
sobolev boundary-value weak-solutions regularity
math.NT | 14 9 | math | math.AG math.CO | prime primes modular l-functions diophantine \
arithmetic zeta galois
math.DG | 14 9 | math | math.AP math.GT | riemannian curvature manifolds geodesic metric \
einstein minimal-surfaces ricci-flow
math.OC | 8 16 | math | cs.SY cs.LG eess.SY | optimization convex optimal-control nonconvex \
lagrangian feasibility gradient-descent
math.NA | 8 14 | math | cs.NA math.AP | numerical discretization finite-element solver \
convergence error-estimates mesh iterative
math.GT | 10 5 | math | math.AT math.GR | knot knots three-manifolds links braid invariants
math.FA | 12 8 | math | math.OA math.CA | banach hilbert operator norm spectral bounded
math.RT | 10 6 | math | math.QA math.GR | representation representations lie-algebra modules \
characters weyl
math.DS | 12 8 | math | math.AP nlin.CD | dynamical ergodic chaotic attractor bifurcation orbit \
entropy
math.QA | 10 4 | math | math.RT math-ph | quantum-group hopf-algebra deformation braided
math.ST | 8 8 | stat | stat.ME stat.ML math.PR | estimator minimax consistency asymptotic \
likelihood hypothesis-testing
math.CA | 8 5 | math | math.FA math.NT | inequality integrals orthogonal-polynomials \
special-functions
math.GR | 10 5 | math | math.RT math.GT | group groups subgroup finitely-generated automorphism
math.AT | 6 3 | math | math.GT math.CT | homotopy homology spectra fibration
math.LO | 6 4 | math | cs.LO | set-theory forcing model-theory definable cardinal
math.RA | 6 4 | math | math.AC math.RT | ring rings algebra ideals matrices
math.OA | 6 3 | math | math.FA | c*-algebra von-neumann operator-algebra
math.AC | 5 3 | math | math.AG math.RA | commutative ideal noetherian local-rings
math-ph | 15 8 | phys | math.MP quant-ph hep-th | mathematical-physics hamiltonian operator \
spectral integrable
astro-ph.GA | 40 25 | phys | astro-ph.CO astro-ph.SR | galaxy galaxies stellar star-formation \
milky-way interstellar dust redshift
astro-ph.CO | 40 25 | phys | astro-ph.GA gr-qc hep-ph | cosmological cosmology dark-energy \
dark-matter cmb inflation redshift
astro-ph.SR | 35 20 | phys | astro-ph.EP astro-ph.GA | stars stellar solar sun binary magnetic \
photosphere oscillations
astro-ph.HE | 30 20 | phys | astro-ph.CO gr-qc | gamma-ray neutron-star black-hole pulsar \
x-ray accretion supernova
astro-ph.EP | 10 12 | phys | astro-ph.SR | planet planets exoplanet orbital protoplanetary \
transit
astro-ph.IM | 10 10 | phys | astro-ph.GA | telescope instrument calibration survey detector
cond-mat.mes-hall | 40 18 | phys | cond-mat.str-el quant-ph | quantum-dot graphene electron \
transport spin nanowire topological
cond-mat.str-el | 35 14 | phys | cond-mat.supr-con cond-mat.mes-hall | correlated hubbard \
magnetic spin-liquid fermions kondo
cond-mat.mtrl-sci | 35 25 | phys | cond-mat.mes-hall physics.app-ph | materials crystal thin-film \
dft band-structure alloy
cond-mat.stat-mech | 30 12 | phys | cond-mat.dis-nn nlin.CD | statistical-mechanics \
phase-transition ising critical nonequilibrium
cond-mat.soft | 20 10 | phys | physics.bio-ph cond-mat.stat-mech | polymer colloids membrane \
active-matter granular
cond-mat.supr-con | 25 6 | phys | cond-mat.str-el | superconducting superconductivity cuprate \
pairing vortex
cond-mat.quant-gas | 10 6 | phys | quant-ph cond-mat.stat-mech | bose-einstein condensate \
cold-atoms optical-lattice
cond-mat.dis-nn | 8 4 | phys | cond-mat.stat-mech | disorder spin-glass localization random
hep-th | 55 20 | phys | gr-qc hep-ph math-ph | string supersymmetry gauge holographic ads/cft \
brane duality
hep-ph | 60 25 | phys | hep-ex hep-th astro-ph.CO | quark gluon higgs neutrino collider \
qcd standard-model
hep-ex | 15 8 | phys | hep-ph | detector collisions lhc cross-section luminosity decay
hep-lat | 10 4 | phys | hep-ph hep-th | lattice lattice-QCD monte-carlo chiral
gr-qc | 30 15 | phys | astro-ph.CO hep-th | gravitational black-holes spacetime \
gravitational-waves einstein
quant-ph | 50 40 | phys | cond-mat.mes-hall cs.IT | quantum qubit qubits entanglement \
decoherence quantum-computing photon
nucl-th | 18 8 | phys | nucl-ex hep-ph | nuclear nuclei nucleon heavy-ion isospin
nucl-ex | 8 4 | phys | nucl-th hep-ex | nuclear nuclei beam isotopes
physics.optics | 15 14 | phys | quant-ph physics.app-ph | optical laser photonic waveguide \
nonlinear-optics
physics.flu-dyn | 8 10 | phys | nlin.CD physics.comp-ph | turbulence fluid flow reynolds \
vortices
physics.comp-ph | 5 6 | phys | cond-mat.mtrl-sci physics.flu-dyn | simulation molecular-dynamics \
solver parallel
physics.soc-ph | 5 5 | phys | cs.SI physics.data-an | social networks opinion epidemic \
mobility
physics.atom-ph | 8 5 | phys | quant-ph physics.optics | atomic atoms spectroscopy ion trap
physics.chem-ph | 6 6 | phys | cond-mat.mtrl-sci | molecules chemical reaction molecular
physics.bio-ph | 5 4 | phys | q-bio.BM cond-mat.soft | biophysical membranes motors cells
physics.ins-det | 5 6 | phys | hep-ex | detector calorimeter readout scintillator
physics.app-ph | 0 8 | phys | cond-mat.mtrl-sci physics.optics | device devices sensor metamaterial
nlin.CD | 10 4 | phys | math.DS | chaos chaotic lyapunov-exponent attractor
nlin.PS | 6 3 | phys | nlin.SI | solitons patterns waves
nlin.SI | 6 2 | phys | math-ph | integrable lax-pair soliton
"""

#: When a category first accepted submissions, for those younger than 2005 (prefix match).
SINCE: dict[str, int] = {
    "eess.": 2017,
    "econ.": 2017,
    "q-fin.": 2009,
    "stat.": 2008,
    "physics.app-ph": 2017,
}

#: Categories that arXiv lists under two names; the paper lists both (the second is an alias).
ALIAS_PAIRS: dict[str, tuple[str, int]] = {
    # category as drawn -> (the other name it also carries, from which year)
    "cs.SY": ("eess.SY", 2019),
    "math-ph": ("math.MP", 0),
    "cs.IT": ("math.IT", 0),
    "math.ST": ("stat.TH", 2008),
    "math.NA": ("cs.NA", 2019),
}

FAMILY_WORDS: dict[str, str] = {
    "ml": "model models learning neural network networks training deep dataset datasets "
    "benchmark accuracy representation representations architecture transformer supervised "
    "loss features embedding embeddings pretrained fine-tuning",
    "cs": "algorithm algorithms system systems framework implementation protocol efficient "
    "evaluation performance design computation software data overhead scalable",
    "math": "theorem lemma proof space spaces operator finite bounded function functions "
    "invariant conjecture polynomial structure dimension $\\alpha$ $L^2$ $n \\to \\infty$ "
    "$\\mathbb{R}^d$",
    "phys": "energy field fields temperature measurement measurements experimental theoretical "
    "spectrum interaction interactions density phase coupling dynamics observed mass "
    "$T_c$ $\\sim 10^{3}$ $\\alpha$",
    "bio": "biological cell cells gene genes species dynamics experimental data",
    "fin": "market markets price prices economic risk agents policy empirical data",
    "stat": "estimator inference regression variance likelihood sample samples prior "
    "posterior statistical $\\hat{\\theta}$ $\\sqrt{n}$",
}

GENERIC_NOUNS = (
    "approach method methods results analysis problem problems properties behavior "
    "applications framework formulation setting settings regime role effect effects class "
    "limit terms case cases order type scheme model structure process quantities "
    "contribution bounds $\\mathcal{O}(n)$ $\\epsilon$ $k$ $O(\\log n)$"
)

ADJECTIVES = (
    "novel new simple general efficient unified robust systematic detailed first "
    "rigorous scalable practical alternative comprehensive"
)
VERBS = "propose present introduce study investigate develop analyze consider derive describe"
OUTCOMES = "show demonstrate prove find observe establish confirm argue illustrate obtain"

#: Abstract sentence skeletons: {A} adjective, {V} verb, {O} outcome verb, %s a drawn word.
SENTENCE_SKELETONS = (
    "We {V} a {A} %s %s for %s %s.",
    "In this paper, we {V} the %s of %s %s.",
    "This work {V}s a {A} %s based on %s %s and %s.",
    "We {O} that the %s %s is governed by %s %s.",
    "Our %s %s outperforms existing %s %s on %s.",
    "Using %s and %s, we {O} that %s %s can be characterized.",
    "The %s of %s %s remains an open %s.",
    "Recent %s in %s %s have attracted considerable attention.",
    "Experiments on %s %s {O} the %s of the proposed %s.",
    "We further {V} %s %s in the presence of %s.",
    "As an application, we {V} %s %s and %s %s.",
    "These %s suggest that %s %s plays a key %s.",
    "Motivated by %s %s, we {V} a {A} %s.",
    "Finally, we discuss %s %s and %s.",
    "A {A} %s for %s %s is obtained in terms of %s.",
    "Existing %s for %s %s suffer from %s %s.",
    "Our analysis relies on %s %s and a {A} %s.",
    "We {O} the %s for %s %s with %s.",
)

#: Title skeletons, %s a drawn word.
TITLE_SKELETONS = (
    "%s %s for %s %s",
    "On the %s of %s %s",
    "Towards %s %s with %s %s",
    "A {A} approach to %s %s",
    "%s %s: a {A} %s %s",
    "%s and %s in %s %s",
    "Learning %s %s from %s %s",
    "%s %s via %s %s and %s %s",
    "{A} %s of %s %s in %s %s",
    "%s %s beyond %s %s",
)
