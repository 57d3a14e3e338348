"""Extension build: one Cython module over the C kernels in csrc/.

Files named csrc/*_simd.c hold the hot element-wise loops; they are compiled
once per ISA, as a portable baseline and (on x86-64) with AVX2/FMA and with
AVX-512, into separate objects; csrc/isa.c picks one set at import from the
CPU's features.

FASTEMBED_SANITIZE=1 builds every object with AddressSanitizer and
UndefinedBehaviorSanitizer (GCC), for tests only: .ci/sanitize runs them with
the runtime preloaded into Python.
"""
import os
import platform
from pathlib import Path

import numpy
from Cython.Build import cythonize
from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

CSRC = Path("csrc")
SIMD_SOURCES = sorted(str(p) for p in CSRC.glob("*_simd.c"))
CORE_SOURCES = sorted(str(p) for p in CSRC.glob("*.c") if not p.name.endswith("_simd.c"))
X86_64 = platform.machine().lower() in ("x86_64", "amd64")

COMMON_FLAGS = ["-O3", "-fopenmp", "-fno-math-errno"]
LINK_FLAGS = ["-fopenmp"]
if os.environ.get("FASTEMBED_SANITIZE") == "1":
    # GCC's "undefined" leaves out float-cast-overflow; Python's default
    # -fwrapv would hide signed overflow; recover lets one run list every report.
    COMMON_FLAGS += ["-fsanitize=address,undefined,float-cast-overflow",
                     "-fsanitize-recover=address", "-fno-omit-frame-pointer", "-g", "-fno-wrapv"]
    LINK_FLAGS += ["-fsanitize=address,undefined"]
ISA_VARIANTS = {"baseline": []}
if X86_64:
    ISA_VARIANTS["avx2"] = ["-mavx2", "-mfma", "-DFE_ISA_AVX2"]
    ISA_VARIANTS["avx512"] = ["-mavx512f", "-mavx512vl", "-mavx2", "-mfma",
                              "-mprefer-vector-width=512", "-DFE_ISA_AVX512"]


class BuildWithIsaVariants(build_ext):
    """Compile each *_simd.c once per ISA into its own object directory."""

    def build_extension(self, ext):
        objects = []
        for isa, flags in ISA_VARIANTS.items():
            objects += self.compiler.compile(
                SIMD_SOURCES,
                output_dir=os.path.join(self.build_temp, "isa_" + isa),
                include_dirs=[str(CSRC)],
                extra_postargs=COMMON_FLAGS + flags,
                depends=[str(p) for p in CSRC.glob("*.h")],
            )
        ext.extra_objects = objects
        super().build_extension(ext)


core = Extension(
    "fastembed._kernels._core",
    sources=["fastembed/_kernels/_core.pyx"] + CORE_SOURCES,
    include_dirs=[str(CSRC), numpy.get_include()],
    define_macros=[("FE_HAVE_X86_ISAS", "1")] if X86_64 else [],
    extra_compile_args=COMMON_FLAGS,
    extra_link_args=LINK_FLAGS,
    # The ISA objects are linked in, not listed as sources: a change to one
    # must still relink the module.
    depends=[str(p) for p in CSRC.glob("*.h")] + SIMD_SOURCES
    + [str(p) for p in Path("fastembed/_kernels").glob("*.pxi")],
)

setup(
    ext_modules=cythonize(
        [core],
        compiler_directives={"language_level": "3"},
    ),
    cmdclass={"build_ext": BuildWithIsaVariants},
)
