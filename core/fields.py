"""Model fields shared by the domain apps."""

from pgvector.django import HnswIndex, VectorField

EMBEDDING_DIMENSIONS = 1536
EMBEDDING_COLUMN = "embedding"


def embedding_field() -> VectorField:
    """The nullable text-embedding-3-small vector every domain row may carry."""
    return VectorField(dimensions=EMBEDDING_DIMENSIONS, null=True, blank=True)


def embedding_index(table: str) -> HnswIndex:
    """An HNSW index for cosine distance on ``table.embedding``."""
    return HnswIndex(
        name=f"{table}_embedding_hnsw",
        fields=["embedding"],
        m=16,
        ef_construction=64,
        opclasses=["vector_cosine_ops"],
    )
