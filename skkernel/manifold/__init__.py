"""Manifold learning: heat-geodesic embeddings."""

from ._heat_geodesic import HeatGeodesicEmbedding

__all__ = ["HeatGeodesicEmbedding"]
