/// Attention grid: isotropic scale and translation, `A_θ = [[s, 0, t_x], [0, s, t_y]]` with θ = (s, t_x, t_y)
/// (the paper's attention model, DESIGN.md §2); θ = (1, 0, 0) is the whole canvas.
public struct AttentionGridGenerator: GridGenerator {
    public init() {}

    public var kind: TransformKind { .attention }
    public var parameterCount: Int { 3 }
    public var identityParameters: [Float] { [1, 0, 0] }

    // theta: [batch, 3]; grid: [batch, height, width, 2]
    public func forward(
        theta: UnsafePointer<Float>, batch: Int, height: Int, width: Int, grid: UnsafeMutablePointer<Float>
    ) {
        let theta = SpatialSendablePointer(theta), grid = SpatialSendableMutablePointer(grid)
        SpatialParallel.forEachItem(batch: batch, workPerItem: 4 * height * width) { item in
            let p = theta.pointer + 3 * item
            AffineGridGenerator.writeGrid(
                a00: p[0], a01: 0, a02: p[1], a10: 0, a11: p[0], a12: p[2],
                height: height, width: width, grid: grid.pointer + 2 * height * width * item)
        }
    }

    // gradGrid: [batch, height, width, 2]; gradTheta: [batch, 3] (+=)
    public func backward(
        theta: UnsafePointer<Float>, gradGrid: UnsafePointer<Float>, batch: Int, height: Int, width: Int,
        gradTheta: UnsafeMutablePointer<Float>
    ) {
        let gradGrid = SpatialSendablePointer(gradGrid), gradTheta = SpatialSendableMutablePointer(gradTheta)
        SpatialParallel.forEachItem(batch: batch, workPerItem: 6 * height * width) { item in
            let m = AffineGridGenerator.gradientMoments(
                height: height, width: width, gradGrid: gradGrid.pointer + 2 * height * width * item)
            let g = gradTheta.pointer + 3 * item
            // s enters both diagonal entries of A: ∂/∂s = ∂/∂a00 + ∂/∂a11.
            g[0] += Float(m.xGradX + m.yGradY)
            g[1] += Float(m.gradX)
            g[2] += Float(m.gradY)
        }
    }
}
