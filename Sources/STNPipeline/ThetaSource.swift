import STNCore

/// Gives the transform of each frame: the raw prediction, the one actually used, and the cut flag.
protocol ThetaSource {
    var kind: TransformKind { get }
    var parameterCount: Int { get }
    mutating func next(frameIndex: Int) throws -> (raw: [Double], smoothed: [Double], sceneCut: Bool)
}

struct FixedThetaSource: ThetaSource {
    let kind: TransformKind
    let parameters: [Double]
    var parameterCount: Int { parameters.count }
    func next(frameIndex: Int) -> (raw: [Double], smoothed: [Double], sceneCut: Bool) {
        (parameters, parameters, false)
    }
}

/// Replays the smoothed columns of a log, row by row.
struct ReplayThetaSource: ThetaSource {
    let log: ParameterLog
    let path: String
    var kind: TransformKind { log.kind }
    var parameterCount: Int { log.parameterNames.count }
    func next(frameIndex: Int) throws -> (raw: [Double], smoothed: [Double], sceneCut: Bool) {
        guard frameIndex < log.rows.count else {
            throw PipelineError(path: path, "the log has \(log.rows.count) rows but the video has more frames")
        }
        let row = log.rows[frameIndex]
        return (row.raw, row.smoothed, row.sceneCut)
    }
}
