import CommandSupport

runTool(STNBench.self)
