: Tonic (non-gated) membrane conductances that set a cell's operating point, in place of an
: injected bias current:
:   g_cat  -- a depolarizing non-selective cation leak (NALCN-like; Lu et al., Cell 129:371, 2007),
:             reversal e_cat (0 mV for a non-selective cation conductance);
:   g_gaba -- tonic extrasynaptic GABA_A (delta-subunit receptors; Farrant & Nusser,
:             Nat Rev Neurosci 6:215, 2005), reversal e_gaba (-80 mV, as the synaptic GABA_A).
: i = g_cat (v - e_cat) + g_gaba (v - e_gaba), a NONSPECIFIC_CURRENT (outward positive).

NEURON {
    SUFFIX tonic
    NONSPECIFIC_CURRENT i
    RANGE g_cat, e_cat, g_gaba, e_gaba
}

UNITS {
    (mA) = (milliamp)
    (mV) = (millivolt)
    (S) = (siemens)
}

PARAMETER {
    g_cat = 0 (S/cm2)
    e_cat = 0 (mV)
    g_gaba = 0 (S/cm2)
    e_gaba = -80 (mV)
}

ASSIGNED {
    v (mV)
    i (mA/cm2)
}

BREAKPOINT {
    i = g_cat * (v - e_cat) + g_gaba * (v - e_gaba)
}
