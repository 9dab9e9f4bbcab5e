// Package optim updates a network's parameters: SGD with momentum,
// Nesterov and weight decay, Adam and RMSprop, with constant, cosine and
// step learning-rate schedules.
//
// Optimiser state lives in each nn.Param's Slots rather than in maps
// inside the optimiser. That is what lets state follow neuron surgery: when
// a layer gains units, their momentum and second moments start at zero;
// when units are removed, their state goes with them; and a checkpoint of
// the network is also a checkpoint of the optimiser (plus the few scalars,
// such as Adam's step count, that the optimiser itself holds).
package optim
