// NeuralNet
