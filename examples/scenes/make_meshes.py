#!/usr/bin/env python3
"""Writes the binary STL meshes the example scenes use (MuJoCo 2.2 reads binary STL only).

Run from anywhere: python3 examples/scenes/make_meshes.py
The output is deterministic; the generated files are committed next to the scenes.
"""
import math
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))


def write_stl(path, triangles):
    """Writes triangles [(v0, v1, v2), ...] (counter-clockwise seen from outside) as binary STL."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(b"workerpair example mesh".ljust(80, b" "))
        f.write(struct.pack("<I", len(triangles)))
        for a, b, c in triangles:
            u = [b[i] - a[i] for i in range(3)]
            v = [c[i] - a[i] for i in range(3)]
            n = [u[1] * v[2] - u[2] * v[1], u[2] * v[0] - u[0] * v[2], u[0] * v[1] - u[1] * v[0]]
            length = math.sqrt(sum(x * x for x in n)) or 1.0
            f.write(struct.pack("<3f", *[x / length for x in n]))
            for p in (a, b, c):
                f.write(struct.pack("<3f", *p))
            f.write(b"\0\0")


def quad(a, b, c, d):
    return [(a, b, c), (a, c, d)]


def wedge(length, width, height):
    """A ramp: base on z=0 over x in [0, length], y in [-width/2, width/2]; its high edge
    (z=height) at x=0, sloping down to z=0 at x=length."""
    w = width / 2
    b0, b1, b2, b3 = (0, -w, 0), (length, -w, 0), (length, w, 0), (0, w, 0)
    t0, t3 = (0, -w, height), (0, w, height)
    tris = []
    tris += quad(b0, b3, b2, b1)          # bottom (normal -z)
    tris += quad(b0, t0, t3, b3)          # back wall at x=0 (normal -x)
    tris += quad(t0, b1, b2, t3)          # slope
    tris += [(b0, b1, t0)]                # side y=-w
    tris += [(b3, t3, b2)]                # side y=+w
    return tris


def icosphere(radius, subdivisions):
    t = (1 + math.sqrt(5)) / 2
    verts = [(-1, t, 0), (1, t, 0), (-1, -t, 0), (1, -t, 0), (0, -1, t), (0, 1, t), (0, -1, -t),
             (0, 1, -t), (t, 0, -1), (t, 0, 1), (-t, 0, -1), (-t, 0, 1)]
    faces = [(0, 11, 5), (0, 5, 1), (0, 1, 7), (0, 7, 10), (0, 10, 11), (1, 5, 9), (5, 11, 4),
             (11, 10, 2), (10, 7, 6), (7, 1, 8), (3, 9, 4), (3, 4, 2), (3, 2, 6), (3, 6, 8),
             (3, 8, 9), (4, 9, 5), (2, 4, 11), (6, 2, 10), (8, 6, 7), (9, 8, 1)]

    def unit(p):
        n = math.sqrt(sum(x * x for x in p))
        return tuple(x / n for x in p)

    verts = [unit(v) for v in verts]
    for _ in range(subdivisions):
        cache = {}

        def mid(i, j):
            key = (min(i, j), max(i, j))
            if key not in cache:
                verts.append(unit(tuple((verts[i][k] + verts[j][k]) / 2 for k in range(3))))
                cache[key] = len(verts) - 1
            return cache[key]

        new_faces = []
        for a, b, c in faces:
            ab, bc, ca = mid(a, b), mid(b, c), mid(c, a)
            new_faces += [(a, ab, ca), (b, bc, ab), (c, ca, bc), (ab, bc, ca)]
        faces = new_faces
    return [tuple(tuple(radius * x for x in verts[i]) for i in f) for f in faces]


def main():
    ramp = wedge(1.0, 0.6, 0.5)
    write_stl(os.path.join(HERE, "ramp_goal", "meshes", "ramp.stl"), ramp)
    write_stl(os.path.join(HERE, "assembly_goal", "meshes", "ramp.stl"), ramp)
    write_stl(os.path.join(HERE, "assembly_goal", "meshes", "ball.stl"), icosphere(0.1, 2))


if __name__ == "__main__":
    main()
