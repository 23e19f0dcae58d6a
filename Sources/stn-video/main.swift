import CommandSupport

runTool(STNVideoCommand.self)
