// placeholder until the target is filled
