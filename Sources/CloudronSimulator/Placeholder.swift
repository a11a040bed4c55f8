enum CloudronSimulatorPlaceholder {}
