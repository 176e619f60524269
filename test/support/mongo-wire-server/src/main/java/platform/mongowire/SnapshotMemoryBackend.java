package platform.mongowire;

import de.bwaldvogel.mongo.MongoCollection;
import de.bwaldvogel.mongo.MongoDatabase;
import de.bwaldvogel.mongo.backend.CollectionOptions;
import de.bwaldvogel.mongo.backend.CursorRegistry;
import de.bwaldvogel.mongo.backend.Index;
import de.bwaldvogel.mongo.backend.QueryParameters;
import de.bwaldvogel.mongo.backend.QueryResult;
import de.bwaldvogel.mongo.backend.memory.MemoryBackend;
import de.bwaldvogel.mongo.backend.memory.MemoryCollection;
import de.bwaldvogel.mongo.backend.memory.MemoryDatabase;
import de.bwaldvogel.mongo.bson.Document;

import java.util.ArrayList;
import java.util.List;

/**
 * The memory backend with replies that hold each document as of one moment.
 *
 * <p>The library updates a stored document in place (field by field) and returns the stored
 * objects themselves from a query; the reply is encoded after the collection's lock is released.
 * A read beside an update of the same document could therefore return it half old and half new —
 * a loan's new version with its old balances, on which a version-guarded write then succeeds and
 * silently undoes the update before it. Here every document a query answers with (its first batch
 * and the rest its cursor keeps) or a findAndModify returns is copied while the lock is held; the
 * queries the library runs inside an update keep the stored objects they need. A shallow copy is enough: an update computes the new document on
 * a deep copy of the old one and then replaces the stored document's top-level values, so a value
 * object, once stored, is never changed.
 */
final class SnapshotMemoryBackend extends MemoryBackend {

    @Override
    public MemoryDatabase openOrCreateDatabase(String databaseName) {
        return new SnapshotMemoryDatabase(databaseName, getCursorRegistry());
    }

    private static final class SnapshotMemoryDatabase extends MemoryDatabase {
        private final CursorRegistry registry;

        SnapshotMemoryDatabase(String name, CursorRegistry registry) {
            super(name, registry);
            this.registry = registry;
        }

        @Override
        protected MemoryCollection openOrCreateCollection(String collectionName, CollectionOptions options) {
            return new SnapshotMemoryCollection(this, collectionName, options, registry);
        }

        /**
         * The library checks and creates here without the database's lock, which its implicit
         * creation (the first insert, update or index of a collection) holds: a {@code create} beside
         * a first insert made two collections of one name, the second replacing the first and the
         * inserted documents with it (a test's 64 seeded counters gone, every update after matching
         * nothing). Under the same lock the two are ordered: one creates, the other finds it.
         */
        @Override
        public synchronized MongoCollection<Integer> createCollectionOrThrowIfExists(String collectionName, CollectionOptions options) {
            return super.createCollectionOrThrowIfExists(collectionName, options);
        }
    }

    private static final class SnapshotMemoryCollection extends MemoryCollection {
        /** Set while this thread answers a query: the update paths query too, and need the stored objects. */
        private static final ThreadLocal<Boolean> ANSWERING = ThreadLocal.withInitial(() -> false);
        /** Set during a findAndModify, which finds the document it modifies through handleQuery. */
        private static final ThreadLocal<Boolean> MODIFYING = ThreadLocal.withInitial(() -> false);

        SnapshotMemoryCollection(MongoDatabase database, String name, CollectionOptions options, CursorRegistry registry) {
            super(database, name, options, registry);
        }

        @Override
        public synchronized QueryResult handleQuery(QueryParameters query) {
            if (MODIFYING.get()) {
                return super.handleQuery(query);
            }
            ANSWERING.set(true);
            try {
                return super.handleQuery(query);
            } finally {
                ANSWERING.set(false);
            }
        }

        /** Under the lock, for the reply's first batch and its cursor's remainder alike. */
        @Override
        protected QueryResult createQueryResult(List<Document> matchedDocuments, int batchSize) {
            if (!ANSWERING.get()) {
                return super.createQueryResult(matchedDocuments, batchSize);
            }
            List<Document> copies = new ArrayList<>(matchedDocuments.size());
            for (Document document : matchedDocuments) {
                copies.add(document == null ? null : new Document(document));
            }
            return super.createQueryResult(copies, batchSize);
        }

        /**
         * The library adds and drops an index without the collection's lock: an index built beside
         * an insert (mongoose creating a model's indexes while the first documents arrive) walked the
         * document list and the index list as the insert changed them, and the insert failed or a
         * document went unindexed. Writes and index changes now take turns.
         */
        @Override
        public synchronized void addIndex(Index<Integer> index) {
            super.addIndex(index);
        }

        @Override
        public synchronized void dropIndex(String indexName) {
            super.dropIndex(indexName);
        }

        @Override
        public synchronized Document findAndModify(Document query) {
            Document result;
            MODIFYING.set(true);
            try {
                result = super.findAndModify(query);
            } finally {
                MODIFYING.set(false);
            }
            Object value = result == null ? null : result.get("value");
            if (value instanceof Document) {
                result.put("value", new Document((Document) value));
            }
            return result;
        }
    }
}
