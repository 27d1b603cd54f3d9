"""Training the classifiers of Safety and Quality on one machine (torch, not Spark): recipes, labelled
data, and the two commands `train-classifier` and `train-fluency`."""
