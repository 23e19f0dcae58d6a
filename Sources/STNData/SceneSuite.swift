/// The held-out evaluation suite: videos of t10k items whose statistics reach past what
/// `SceneOptions.robustTraining` draws, one factor at a time, so that a model is judged on
/// scenes its training never saw. Each bucket varies one factor of a nominal scene.
public struct SceneSuite: Sendable {
    public struct Bucket: Sendable {
        public var name: String
        public var width = 640
        public var height = 360
        public var options: SceneOptions
        /// x264's constant rate factor of a round trip through H.264 (nil: the rendered frames as they are).
        public var crf: Int?

        /// True for the bucket of item-free scenes, which measures presence only.
        public var itemFree: Bool { options.itemAbsentShare >= 1 }
    }

    /// The scene every bucket starts from: clutter on 10–20 % of the frame in patches of 0.1–0.6
    /// item sides, background to 20 % grey, noise to σ 3/255, item contrast 70–100 %, 640×360.
    public static var nominal: SceneOptions {
        var options = SceneOptions()
        options.clutterSizing = .independent
        options.clutterCoverage = 0.1...0.2
        options.clutterSide = 0.1...0.6
        options.clutterSourceSide = 6...14
        options.clutterIntensity = 0.3...0.8
        options.backgroundLevel = 0...0.2
        options.backgroundGradient = 0.1
        options.noise = 0...(3 / 255)
        options.itemContrast = 0.7...1
        return options
    }

    public static let buckets: [Bucket] = {
        func bucket(
            _ name: String, width: Int = 640, height: Int = 360, crf: Int? = nil,
            _ change: (inout SceneOptions) -> Void = { _ in }
        ) -> Bucket {
            var options = nominal
            change(&options)
            return Bucket(name: name, width: width, height: height, options: options, crf: crf)
        }
        return [
            bucket("nominal"),
            bucket("no clutter") { $0.clutterCoverage = 0...0 },
            bucket("clutter 25%, 0.1-0.3 sides") {
                $0.clutterCoverage = 0.25...0.25; $0.clutterSide = 0.1...0.3
            },
            bucket("clutter 50%, 0.1-0.3 sides") {
                $0.clutterCoverage = 0.5...0.5; $0.clutterSide = 0.1...0.3
            },
            bucket("clutter 50%, 0.6-1.0 sides") {
                $0.clutterCoverage = 0.5...0.5; $0.clutterSide = 0.6...1.0
            },
            bucket("drifting clutter 25%") {
                $0.clutterCoverage = 0.25...0.25; $0.clutterSide = 0.1...1.0; $0.clutterDrift = 0.05...0.2
            },
            bucket("background 40% flat") {
                $0.backgroundLevel = 0.4...0.4; $0.backgroundGradient = 0
            },
            bucket("background 0-40% gradient") {
                $0.backgroundLevel = 0...0.4; $0.backgroundGradient = 0.4
            },
            bucket("noise sigma 8") { $0.noise = (8 / 255)...(8 / 255) },
            bucket("blur sigma 2 px") { $0.blur = 2...2 },
            bucket("item contrast 40%") { $0.itemContrast = 0.4...0.4 },
            bucket("H.264 CRF 18", crf: 18),
            bucket("H.264 CRF 35", crf: 35),
            bucket("320x240", width: 320, height: 240),
            bucket("1920x1080", width: 1920, height: 1080),
            bucket("9:16 360x640", width: 360, height: 640),
            bucket("2.35:1 846x360", width: 846, height: 360),
            bucket("item-free scenes") { $0.itemAbsentShare = 1 }
        ]
    }()
}
