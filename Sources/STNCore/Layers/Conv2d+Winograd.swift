import COpenBLAS
import Foundation

/// Winograd F(2×2, 3×3) for 3×3, stride-1, padding-1 convolutions (Lavin & Gray 2016), inference only.
///
/// Each 2×2 output tile is Aᵀ[Σ_c (G g_c Gᵀ) ⊙ (Bᵀ d_c B)]A over its 4×4 input patch d_c: 16
/// multiplies per tile and channel pair instead of 36, the multiplies done by 16 GEMMs
/// `M[ξ] (Cout × T) = U[ξ] (Cout × Cin) × V[ξ] (Cin × T)`, one per transformed position ξ, over
/// T tiles of the whole batch at once. The transforms only add and subtract (and halve, in G),
/// so the result differs from im2col + GEMM by rounding alone (~1e-6 relative).
///
/// Tiles are walked in chunks of whole tile rows (across images) so that V and M of a chunk
/// stay in the L2 cache; eight tiles of a row share SIMD lanes, the last group of a row
/// overlapping the one before (it recomputes the same tiles).
extension Conv2d {
    /// Tiles per chunk, about: V and M of 16 × (Cin + Cout) × T floats fit 512 KB at 32 + 32 channels.
    static let winogradChunkTiles = 128

    // x: [N, Cin, H, W] -> y: [N, Cout, H, W]
    func forwardWinograd(_ input: UnsafePointer<Float>, batch: Int) -> UnsafePointer<Float> {
        let cin = inputChannels, cout = outputChannels, h = inputHeight, w = inputWidth
        let tilesX = w / 2, tilesY = h / 2, paddedWidth = w + 2, paddedPlane = (h + 2) * paddedWidth
        let u = winogradWeights()
        let padded = winogradPadded.reserve(batch * cin * paddedPlane)
        Self.pad(input, planes: batch * cin, height: h, width: w, padding: 1, into: padded)
        let chunkRows = max(1, Self.winogradChunkTiles / tilesX), chunkTiles = chunkRows * tilesX
        let v = winogradTransformed.reserve(16 * cin * chunkTiles)
        let m = winogradProducts.reserve(16 * cout * chunkTiles)
        let out = output.reserve(batch * cout * h * w)
        let totalRows = batch * tilesY
        var firstRow = 0
        while firstRow < totalRows {
            let rows = min(chunkRows, totalRows - firstRow), tiles = rows * tilesX
            for r in 0..<rows {
                let n = (firstRow + r) / tilesY, ty = (firstRow + r) % tilesY
                for c in 0..<cin {
                    Self.transformInputRow(
                        padded + (n * cin + c) * paddedPlane + 2 * ty * paddedWidth, stride: paddedWidth,
                        tilesX: tilesX, into: v + c * tiles + r * tilesX, planeStride: cin * tiles)
                }
            }
            // β = 1 onto zeros rather than β = 0: OpenBLAS's β pass zeroes C a float at a time,
            // libc's memset a vector at a time; the sums are the same.
            m.update(repeating: 0, count: 16 * cout * tiles)
            for xi in 0..<16 {
                stn_sgemm(
                    CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(cout), Int32(tiles), Int32(cin),
                    1, u + xi * cout * cin, Int32(cin), v + xi * cin * tiles, Int32(tiles),
                    1, m + xi * cout * tiles, Int32(tiles))
            }
            let b = bias.value.data
            for r in 0..<rows {
                let n = (firstRow + r) / tilesY, ty = (firstRow + r) % tilesY
                for co in 0..<cout {
                    Self.transformOutputRow(
                        m + co * tiles + r * tilesX, planeStride: cout * tiles, tilesX: tilesX, bias: b[co],
                        into: out + (n * cout + co) * h * w + 2 * ty * w, stride: w)
                }
            }
            firstRow += rows
        }
        return UnsafePointer(out)
    }

    /// U[ξ][co][ci] = (G g Gᵀ)[ξ] for every filter, G = [[1, 0, 0], [½, ½, ½], [½, −½, ½], [0, 0, 1]];
    /// recomputed only when the weights differ from the copy they were computed from (training
    /// changes them between evaluations).
    private func winogradWeights() -> UnsafeMutablePointer<Float> {
        let cin = inputChannels, cout = outputChannels, count = cout * cin * 9
        let g = weight.value.data
        let snapshot = winogradWeightSnapshot.reserve(count)
        let u = winogradTransformedWeights.reserve(16 * cout * cin)
        if winogradWeightsValid && memcmp(snapshot, g, count * 4) == 0 { return u }
        snapshot.update(from: g, count: count)
        for co in 0..<cout {
            for ci in 0..<cin {
                let f = g + (co * cin + ci) * 9
                // t = G g (4 × 3), then U = t Gᵀ (4 × 4).
                var t = [Float](repeating: 0, count: 12)
                for j in 0..<3 {
                    let (g0, g1, g2) = (f[j], f[3 + j], f[6 + j])
                    t[j] = g0
                    t[3 + j] = (g0 + g1 + g2) * 0.5
                    t[6 + j] = (g0 - g1 + g2) * 0.5
                    t[9 + j] = g2
                }
                for i in 0..<4 {
                    let (t0, t1, t2) = (t[3 * i], t[3 * i + 1], t[3 * i + 2])
                    let values = [t0, (t0 + t1 + t2) * 0.5, (t0 - t1 + t2) * 0.5, t2]
                    for j in 0..<4 { u[((i * 4 + j) * cout + co) * cin + ci] = values[j] }
                }
            }
        }
        winogradWeightsValid = true
        return u
    }

    /// V[ξ][tile] = (Bᵀ d B)[ξ] for the tiles of one tile row of one channel; `src` is the
    /// padded plane's row 2·ty, Bᵀ = [[1, 0, −1, 0], [0, 1, 1, 0], [0, −1, 1, 0], [0, 1, 0, −1]].
    @inline(__always)
    static func transformInputRow(
        _ src: UnsafePointer<Float>, stride: Int, tilesX: Int, into v: UnsafeMutablePointer<Float>, planeStride: Int
    ) {
        let raw = UnsafeRawPointer(src)
        var t0 = 0
        while t0 < tilesX {
            let start = min(t0, tilesX - 8)
            func row(_ i: Int) -> (SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>) {
                let offset = (i * stride + 2 * start) * 4
                let a = raw.loadUnaligned(fromByteOffset: offset, as: SIMD16<Float>.self)
                let b = raw.loadUnaligned(fromByteOffset: offset + 8, as: SIMD16<Float>.self)
                return (a.evenHalf, a.oddHalf, b.evenHalf, b.oddHalf)
            }
            // (Bᵀ d) B, row i of Bᵀ d stored as V[4i + j].
            func columns(_ p: (SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>), _ i: Int) {
                let base = v + 4 * i * planeStride + start
                store(p.0 - p.2, base)
                store(p.1 + p.2, base + planeStride)
                store(p.2 - p.1, base + 2 * planeStride)
                store(p.1 - p.3, base + 3 * planeStride)
            }
            let r0 = row(0), r1 = row(1), r2 = row(2), r3 = row(3)
            columns((r0.0 - r2.0, r0.1 - r2.1, r0.2 - r2.2, r0.3 - r2.3), 0)
            columns((r1.0 + r2.0, r1.1 + r2.1, r1.2 + r2.2, r1.3 + r2.3), 1)
            columns((r2.0 - r1.0, r2.1 - r1.1, r2.2 - r1.2, r2.3 - r1.3), 2)
            columns((r1.0 - r3.0, r1.1 - r3.1, r1.2 - r3.2, r1.3 - r3.3), 3)
            t0 += 8
        }
    }

    /// y = Aᵀ m A + bias for the tiles of one tile row of one output channel, Aᵀ = [[1, 1, 1, 0],
    /// [0, 1, −1, −1]]; `dst` is the output plane's row 2·ty.
    @inline(__always)
    static func transformOutputRow(
        _ m: UnsafePointer<Float>, planeStride: Int, tilesX: Int, bias: Float, into dst: UnsafeMutablePointer<Float>,
        stride: Int
    ) {
        var t0 = 0
        while t0 < tilesX {
            let start = min(t0, tilesX - 8)
            func load(_ xi: Int) -> SIMD8<Float> {
                UnsafeRawPointer(m + xi * planeStride + start).loadUnaligned(as: SIMD8<Float>.self)
            }
            // Aᵀ m: s0 = m0 + m1 + m2, s1 = m1 − m2 − m3, row by row of m.
            var s0 = (SIMD8<Float>(), SIMD8<Float>(), SIMD8<Float>(), SIMD8<Float>())
            var s1 = s0
            do {
                let (a0, a1, a2, a3) = (load(0), load(1), load(2), load(3))
                let (b0, b1, b2, b3) = (load(4), load(5), load(6), load(7))
                let (c0, c1, c2, c3) = (load(8), load(9), load(10), load(11))
                let (d0, d1, d2, d3) = (load(12), load(13), load(14), load(15))
                s0 = (a0 + b0 + c0, a1 + b1 + c1, a2 + b2 + c2, a3 + b3 + c3)
                s1 = (b0 - c0 - d0, b1 - c1 - d1, b2 - c2 - d2, b3 - c3 - d3)
            }
            let offset = SIMD8<Float>(repeating: bias)
            var top = SIMD16<Float>(), bottom = SIMD16<Float>()
            top.evenHalf = s0.0 + s0.1 + s0.2 + offset
            top.oddHalf = s0.1 - s0.2 - s0.3 + offset
            bottom.evenHalf = s1.0 + s1.1 + s1.2 + offset
            bottom.oddHalf = s1.1 - s1.2 - s1.3 + offset
            UnsafeMutableRawPointer(dst + 2 * start).storeBytes(of: top, as: SIMD16<Float>.self)
            UnsafeMutableRawPointer(dst + stride + 2 * start).storeBytes(of: bottom, as: SIMD16<Float>.self)
            t0 += 8
        }
    }
}

@inline(__always)
private func store(_ value: SIMD8<Float>, _ pointer: UnsafeMutablePointer<Float>) {
    UnsafeMutableRawPointer(pointer).storeBytes(of: value, as: SIMD8<Float>.self)
}
