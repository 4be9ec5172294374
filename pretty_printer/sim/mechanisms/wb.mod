: Wang-Buzsaki (1996) fast-spiking interneuron: transient Na (instantaneous activation) and
: delayed-rectifier K, written from the equations of Wang & Buzsaki, J Neurosci 16:6402 (1996).
: A type-I cell: its f-I curve rises continuously from zero at rheobase.  Leak is the built-in
: `pas` mechanism.  Temperature is fixed by phi (the model has no Q10 of its own).

NEURON {
    SUFFIX wb
    USEION na READ ena WRITE ina
    USEION k READ ek WRITE ik
    RANGE gnabar, gkbar, phi
}

UNITS {
    (mA) = (milliamp)
    (mV) = (millivolt)
    (S) = (siemens)
}

PARAMETER {
    gnabar = 0.035 (S/cm2)
    gkbar = 0.009 (S/cm2)
    phi = 5
}

ASSIGNED {
    v (mV)
    ena (mV)
    ek (mV)
    ina (mA/cm2)
    ik (mA/cm2)
    minf
    hinf
    htau (ms)
    ninf
    ntau (ms)
}

STATE { h n }

BREAKPOINT {
    SOLVE states METHOD cnexp
    ina = gnabar * minf * minf * minf * h * (v - ena)
    ik = gkbar * n * n * n * n * (v - ek)
}

INITIAL {
    rates(v)
    h = hinf
    n = ninf
}

DERIVATIVE states {
    rates(v)
    h' = (hinf - h) / htau
    n' = (ninf - n) / ntau
}

FUNCTION vtrap(x (mV), y (mV)) {
    : x / (exp(x/y) - 1), with its limit y at x = 0
    if (fabs(x / y) < 1e-6) {
        vtrap = y * (1 - x / y / 2)
    } else {
        vtrap = x / (exp(x / y) - 1)
    }
}

PROCEDURE rates(v (mV)) {
    LOCAL am, bm, ah, bh, an, bn
    UNITSOFF
    am = 0.1 * vtrap(-(v + 35), 10)
    bm = 4 * exp(-(v + 60) / 18)
    minf = am / (am + bm)
    ah = 0.07 * exp(-(v + 58) / 20)
    bh = 1 / (exp(-0.1 * (v + 28)) + 1)
    hinf = ah / (ah + bh)
    htau = 1 / (phi * (ah + bh))
    an = 0.01 * vtrap(-(v + 34), 10)
    bn = 0.125 * exp(-(v + 44) / 80)
    ninf = an / (an + bn)
    ntau = 1 / (phi * (an + bn))
    UNITSON
}
