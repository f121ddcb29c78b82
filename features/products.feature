Feature: Products reach Procountor's product register once
  As an accountant invoicing the work done in Spotilla
  I want every product of Spotilla's product register to exist once in Procountor's product register
  so that invoice rows refer to products I recognise, without me typing them in twice

  Background:
    Given the organization uses the Procountor integration

  Scenario: A new product is created in Procountor with its code, name, unit, price and VAT
    Given Spotilla's product register has:
      | code  | name              | unit | unit price | VAT % |
      | ASE-1 | Installation work | h    | 49.90      | 25.5  |
      | KM    | Travel            | km   | 0.59       | 25.5  |
      | TIIV  | Sealant tube      | pcs  | 12.40      | 14    |
    When the integration runs
    Then Procountor's product register holds:
      | code  | name              | unit      | price | VAT % |
      | ASE-1 | Installation work | HOUR      | 49.90 | 25.5  |
      | KM    | Travel            | KILOMETER | 0.59  | 25.5  |
      | TIIV  | Sealant tube      | PIECE     | 12.40 | 14    |
    And the run report says 3 products were created

  Scenario: A product is created only once, however often the integration runs
    Given Spotilla's product register has:
      | code  | name              | unit | unit price | VAT % |
      | ASE-1 | Installation work | h    | 49.90      | 25.5  |
    When the integration runs
    And the integration runs again
    Then Procountor has 1 product with code "ASE-1"
    And the run report says nothing was created

  Scenario: A product without a code gets a code made from Spotilla's product number
    Given Spotilla's product register has:
      | code | name          | unit | unit price | VAT % |
      |      | Waste removal | pcs  | 35.00      | 25.5  |
    When the integration runs
    Then Procountor has 1 product with code "SPOTILLA-1"

  Scenario: A later change of a product in Spotilla is not pushed to Procountor
    Given Spotilla's product register has:
      | code  | name              | unit | unit price | VAT % |
      | ASE-1 | Installation work | h    | 49.90      | 25.5  |
    And the integration has run
    When the price of product "ASE-1" is changed to 54.90 in Spotilla
    And the integration runs again
    Then Procountor's product register holds:
      | code  | name              | unit | price | VAT % |
      | ASE-1 | Installation work | HOUR | 49.90 | 25.5  |

  Scenario: A product Procountor already has with the same code is linked, not duplicated
    Given Procountor's product register already has product "ASE-1" "Asennustyö" at 45.00 per HOUR with VAT 25.5 %
    And Spotilla's product register has:
      | code  | name              | unit | unit price | VAT % |
      | ASE-1 | Installation work | h    | 49.90      | 25.5  |
    When the integration runs
    Then Procountor has 1 product with code "ASE-1"
    And the run report says product "ASE-1" was linked to the product Procountor already had

  Scenario Outline: A product Procountor cannot take is held back with the reason
    Given Spotilla's product register has:
      | code  | name        | unit   | unit price | VAT % |
      | ODD-1 | Odd product | <unit> | 10.00      | <vat> |
    When the integration runs
    Then Procountor has no product with code "ODD-1"
    And product "ODD-1" is held back because PRODUCT_NOT_CREATABLE
    And the reason says "<explanation>"

    Examples:
      | unit   | vat  | explanation                                    |
      | barrel | 25.5 | its unit 'barrel' has no Procountor equivalent |
      | h      | 17   | VAT 17 % is not in use in Procountor           |
      | crate  | 17   | use h, pcs, km, m, kg or l                     |

  Scenario: A held-back product does not stop the other products
    Given Spotilla's product register has:
      | code  | name              | unit   | unit price | VAT % |
      | ODD-1 | Odd product       | barrel | 10.00      | 25.5  |
      | ASE-1 | Installation work | h      | 49.90      | 25.5  |
    When the integration runs
    Then Procountor has 1 product with code "ASE-1"
    And product "ODD-1" is held back because PRODUCT_NOT_CREATABLE

  Scenario: A held-back product is created once it is corrected in Spotilla
    Given Spotilla's product register has:
      | code  | name        | unit   | unit price | VAT % |
      | ODD-1 | Odd product | barrel | 10.00      | 25.5  |
    And the integration has run
    When the unit of product "ODD-1" is changed to "pcs" in Spotilla
    And the integration runs again
    Then Procountor has 1 product with code "ODD-1"
