import java.nio.file.*;
import java.security.Security;
import java.util.Collection;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cms.*;
import org.bouncycastle.cms.jcajce.JcaSimpleSignerInfoVerifierBuilder;
import org.bouncycastle.jce.provider.BouncyCastleProvider;
import org.bouncycastle.util.Store;

// Verify a detached CMS with BouncyCastle: args content sig.p7s [sig2.p7s ...]; prints
// "OK <file>" or "FAIL <file>: <reason>" per signature (an independent check of signer/cms).
public class BcVerifyCms {
    public static void main(String[] a) throws Exception {
        Security.addProvider(new BouncyCastleProvider());
        byte[] content = Files.readAllBytes(Paths.get(a[0]));
        for (int i = 1; i < a.length; i++) {
            try {
                CMSSignedData sd = new CMSSignedData(new CMSProcessableByteArray(content), Files.readAllBytes(Paths.get(a[i])));
                Store<X509CertificateHolder> certs = sd.getCertificates();
                boolean all = true;
                for (SignerInformation si : sd.getSignerInfos().getSigners()) {
                    @SuppressWarnings("unchecked")
                    Collection<X509CertificateHolder> m = certs.getMatches(si.getSID());
                    X509CertificateHolder c = m.iterator().next();
                    all &= si.verify(new JcaSimpleSignerInfoVerifierBuilder().setProvider("BC").build(c));
                }
                System.out.println((all ? "OK " : "FAIL ") + a[i]);
            } catch (Exception e) {
                System.out.println("FAIL " + a[i] + ": " + e);
            }
        }
    }
}
