/// One still scene: what a frame shows, in the frame's pixel coordinates, independent of the
/// resolution it is rendered at (`SceneRenderer`).
///
/// Intensities are in [0, 1] (0 black, 1 white), Fashion-MNIST's ink being bright on black.
public struct SceneLayout: Equatable, Sendable {
    /// The item to find: a source image drawn as a `side × side` square centred at (centreX, centreY).
    public struct Item: Equatable, Sendable {
        /// Index into the item source (an `IDXDataset`).
        public var index: Int
        public var label: Int
        public var centreX: Double
        public var centreY: Double
        public var side: Double

        public init(index: Int, label: Int, centreX: Double, centreY: Double, side: Double) {
            self.index = index; self.label = label; self.centreX = centreX; self.centreY = centreY; self.side = side
        }

        /// The item's box in frame pixels.
        public var box: SceneSquare { SceneSquare(centreX: centreX, centreY: centreY, halfSide: side / 2) }
    }

    /// Clutter: a square crop (`sourceSide` texels at `sourceX, sourceY`) of another item,
    /// drawn as a `side × side` square with its top-left corner at (x, y), dimmed by `intensity`.
    public struct Patch: Equatable, Sendable {
        public var index: Int
        public var sourceX: Int
        public var sourceY: Int
        public var sourceSide: Int
        public var x: Double
        public var y: Double
        public var side: Double
        public var intensity: Float

        public init(
            index: Int, sourceX: Int, sourceY: Int, sourceSide: Int, x: Double, y: Double, side: Double,
            intensity: Float
        ) {
            self.index = index; self.sourceX = sourceX; self.sourceY = sourceY; self.sourceSide = sourceSide
            self.x = x; self.y = y; self.side = side; self.intensity = intensity
        }
    }

    public var width: Int
    public var height: Int
    /// Background: `level + gradientX·(x/W − ½) + gradientY·(y/H − ½)`.
    public var backgroundLevel: Float
    public var gradientX: Float
    public var gradientY: Float
    public var clutter: [Patch]
    public var item: Item
    /// Standard deviation of the additive Gaussian noise, per rendered pixel.
    public var noise: Float
    public var noiseSeed: UInt64
    /// False for an item-free scene: `item` still fixes where nothing is drawn, and the label
    /// is `noItemLabel`.
    public var itemPresent = true
    /// The item's peak intensity (its contrast against black), in (0, 1].
    public var itemIntensity: Float = 1
    /// Standard deviation of a Gaussian blur applied before the noise, in frame pixels.
    public var blur: Float = 0

    /// The class of a scene without an item: the 11th class, after Fashion-MNIST's ten.
    public static let noItemLabel = 10

    /// The class a classifier should give this scene.
    public var label: Int { itemPresent ? item.label : Self.noItemLabel }

    public init(
        width: Int, height: Int, backgroundLevel: Float, gradientX: Float, gradientY: Float,
        clutter: [Patch], item: Item, noise: Float, noiseSeed: UInt64
    ) {
        self.width = width; self.height = height
        self.backgroundLevel = backgroundLevel; self.gradientX = gradientX; self.gradientY = gradientY
        self.clutter = clutter; self.item = item; self.noise = noise; self.noiseSeed = noiseSeed
    }

    public var canvas: SquareCanvas { SquareCanvas(width: width, height: height) }

    /// The item's box in normalised square-canvas coordinates (DESIGN.md §2).
    public var canvasBox: SceneSquare {
        let centre = canvas.normalised(x: item.centreX, y: item.centreY)
        return SceneSquare(centreX: centre.x, centreY: centre.y, halfSide: canvas.normalisedHalfSide(pixels: item.side))
    }
}
