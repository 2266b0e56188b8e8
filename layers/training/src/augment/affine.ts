/**
 * A 2-D affine map from output pixel coordinates to input pixel coordinates:
 * input = A·p + b, with A = [[a, b], [c, d]] stored row-major as m[0..3], offset t[0..1].
 */
export interface Affine {
  m: [number, number, number, number];
  t: [number, number];
}

export const IDENTITY: Affine = { m: [1, 0, 0, 1], t: [0, 0] };

/** The map p ↦ outer(inner(p)). */
export function compose(outer: Affine, inner: Affine): Affine {
  const [a, b, c, d] = outer.m;
  const [e, f, g, h] = inner.m;
  return {
    m: [a * e + b * g, a * f + b * h, c * e + d * g, c * f + d * h],
    t: [a * inner.t[0] + b * inner.t[1] + outer.t[0], c * inner.t[0] + d * inner.t[1] + outer.t[1]],
  };
}

export function translation(dx: number, dy: number): Affine {
  return { m: [1, 0, 0, 1], t: [dx, dy] };
}

/** Rotation by `degrees` about the centre of a width×height image (pixel centres at integers). */
export function rotationAbout(degrees: number, width: number, height: number): Affine {
  const rad = (degrees * Math.PI) / 180;
  const cos = Math.cos(rad);
  const sin = Math.sin(rad);
  const cx = (width - 1) / 2;
  const cy = (height - 1) / 2;
  const rotate: Affine = { m: [cos, -sin, sin, cos], t: [0, 0] };
  return compose(translation(cx, cy), compose(rotate, translation(-cx, -cy)));
}

/** Reads column width−1−x: a horizontal flip. */
export function horizontalFlip(width: number): Affine {
  return { m: [-1, 0, 0, 1], t: [width - 1, 0] };
}

export function isIdentity(a: Affine): boolean {
  return a.m[0] === 1 && a.m[1] === 0 && a.m[2] === 0 && a.m[3] === 1 && a.t[0] === 0 && a.t[1] === 0;
}

/** The 8 numbers of TensorFlow's projective transform row for this map. */
export function transformRow(a: Affine): number[] {
  return [a.m[0], a.m[1], a.t[0], a.m[2], a.m[3], a.t[1], 0, 0];
}
