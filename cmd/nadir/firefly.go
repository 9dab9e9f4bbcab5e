package main

import (
	"flag"
	"fmt"

	"github.com/nadir-ml/nadir/grow"
	"github.com/nadir-ml/nadir/grow/firefly"
)

// registerFireflyFlags adds the Firefly options of `nadir grow`.
func registerFireflyFlags(fs *flag.FlagSet, g *grow.Config) {
	fs.IntVar(&g.Candidates, "candidates", 0, "firefly: new-neuron candidates per layer (0: a quarter of the layer's width, at least 2)")
	fs.IntVar(&g.CandidateSteps, "candidate-steps", firefly.DefaultSteps, "firefly: mini-batches of joint candidate training per growth step")
	fs.BoolVar(&g.Deeper, "deeper", false, "firefly: also propose new identity-initialised layers after each growable layer")
	fs.IntVar(&g.MaxNewLayers, "max-new-layers", 1, "firefly --deeper: at most this many layers inserted per round")
}

// fireflyDefaults applies the method-dependent defaults and checks the
// Firefly flags: ε = 1 (apply candidates as trained) unless set.
func fireflyDefaults(fs *flag.FlagSet, g *grow.Config) error {
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	isFF := g.Method == "firefly" || g.Method == "firefly-split"
	if isFF && !set["eps"] {
		g.Eps = 1
	}
	if isFF && !set["eps-rel"] {
		g.EpsRel = 0 // a candidate is applied at its trained size, not relative to the neuron
	}
	for _, name := range []string{"candidates", "candidate-steps", "deeper", "max-new-layers"} {
		if set[name] && !isFF {
			return fmt.Errorf("--%s needs --method firefly or firefly-split", name)
		}
	}
	switch {
	case g.Candidates < 0:
		return fmt.Errorf("--candidates %d: must be >= 0", g.Candidates)
	case g.CandidateSteps <= 0:
		return fmt.Errorf("--candidate-steps %d: must be positive", g.CandidateSteps)
	case g.MaxNewLayers < 1:
		return fmt.Errorf("--max-new-layers %d: must be >= 1", g.MaxNewLayers)
	}
	return nil
}
