"""Built-in pattern recognizers, one module per family; importing a module registers its recognizers."""
