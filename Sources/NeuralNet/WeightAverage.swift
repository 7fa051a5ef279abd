import Tensor

// MARK: - An exponential moving average of the weights

extension Sequential {
  /// `self ← decay · self + (1 − decay) · live`, for every parameter and every buffer (a batch
  /// norm's running statistics), as timm's ModelEmaV2 averages a whole state dict. `live` must
  /// have this network's architecture. Two BLAS passes per tensor (`sscal`, `saxpy`), so the
  /// result is the same on every run.
  public mutating func average(toward live: Sequential, decay: Float) {
    precondition(live.spec == spec && live.inputSize == inputSize, "an average must have the network's architecture")
    for i in layers.indices {
      let (parameters, buffers) = (live.layers[i].parameters, live.layers[i].buffers)
      for j in parameters.indices {
        scale(&layers[i].parameters[j].value, by: decay)
        axpy(1 - decay, parameters[j].value, &layers[i].parameters[j].value)
      }
      for j in buffers.indices {
        scale(&layers[i].buffers[j].value, by: decay)
        axpy(1 - decay, buffers[j].value, &layers[i].buffers[j].value)
      }
      if !parameters.isEmpty { layers[i].parametersChanged() }
    }
  }
}
