package platform.mongowire;

import de.bwaldvogel.mongo.MongoServer;
import de.bwaldvogel.mongo.MongoVersion;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.util.List;

/**
 * Runs mongo-java-server's in-memory backend on 127.0.0.1 (with replies that hold each document as of
 * one moment: see SnapshotMemoryBackend).
 *
 * <p>Usage: {@code java -jar mongo-wire-server.jar [port] [--ignore-stdin]}; port 0 (the default)
 * picks a free one. Prints exactly one line {@code LISTENING <port>} on stdout once it accepts
 * connections. It exits when stdin reaches end of file, so a crashed parent never leaves it
 * running, unless {@code --ignore-stdin} is given (for running it by hand or in a container).
 */
public final class Launcher {

    /**
     * The library's own versions stop at 5.0 (wire 13), and the Node driver 7 requires wire 21
     * (MongoDB 7.0) or newer. The server does not gate features on the version it reports, so
     * reporting 7.0 only changes what the handshake says.
     */
    private static final MongoVersion MONGO_7_0 = new MongoVersion() {
        @Override
        public List<Integer> getVersionArray() {
            return List.of(7, 0, 0);
        }

        @Override
        public int getWireVersion() {
            return 21;
        }
    };

    private Launcher() {
    }

    public static void main(String[] args) throws Exception {
        int port = 0;
        boolean watchStdin = true;
        for (String arg : args) {
            if (arg.equals("--ignore-stdin")) {
                watchStdin = false;
            } else {
                port = Integer.parseInt(arg);
            }
        }

        MongoServer server = new MongoServer(new SnapshotMemoryBackend().version(MONGO_7_0));
        server.bind("127.0.0.1", port);
        InetSocketAddress address = server.getLocalAddress();

        // No shutdown hook: the data lives only in this process, so SIGTERM (the JVM's default
        // exit) has nothing to flush.

        System.out.println("LISTENING " + address.getPort());
        System.out.flush();

        if (watchStdin) {
            Thread watcher = new Thread(() -> {
                drain(System.in);
                System.exit(0);
            }, "stdin-watch");
            watcher.setDaemon(true);
            watcher.start();
        }
        // Netty's event loop threads are non-daemon and keep the JVM alive until shutdown.
    }

    private static void drain(InputStream in) {
        byte[] buffer = new byte[256];
        try {
            while (in.read(buffer) >= 0) {
                // Whatever the parent writes is ignored; only end of file matters.
            }
        } catch (IOException ignored) {
            // A broken pipe means the parent is gone, same as end of file.
        }
    }
}
