"""Clustering by semidefinite programs: SDP K-means and iLA-SDP."""

from ._ila_sdp import ILASDPClustering
from ._sdp_kmeans import SDPKMeans

__all__ = ["ILASDPClustering", "SDPKMeans"]
