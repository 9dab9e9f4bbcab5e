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
// Firefly flags: ε = 1 (apply candidates as trained) unless set. In the
// library a zero count means its default; given on the command line it is
// refused, since no one asks for zero steps meaning twenty.
func fireflyDefaults(fs *flag.FlagSet, g *grow.Config) error {
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if (g.Method == "firefly" || g.Method == "firefly-split") && !set["eps"] {
		g.Eps = 1
	}
	if set["candidate-steps"] && g.CandidateSteps <= 0 {
		return fmt.Errorf("--candidate-steps %d: must be positive", g.CandidateSteps)
	}
	if set["max-new-layers"] && g.MaxNewLayers <= 0 {
		return fmt.Errorf("--max-new-layers %d: must be positive", g.MaxNewLayers)
	}
	return nil
}
