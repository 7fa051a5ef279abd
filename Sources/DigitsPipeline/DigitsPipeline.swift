// DigitsPipeline
