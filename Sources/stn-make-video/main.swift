import CommandSupport

runTool(MakeVideo.self)
